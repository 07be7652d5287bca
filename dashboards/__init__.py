"""Dashboard pages (Bokeh); built in a later step."""
