"""Developer and operator tools: the demo history and blobs, replay of a series through
the production detection, and the Procfile supervisor of bin/demo."""
