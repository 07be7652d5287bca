# ruff: noqa: SIM118 -- the suite exactly as asv ran it (README.md)
"""A tiny asv suite: each kind of benchmark once."""


class TimeSuite:
    def setup(self):
        self.d = {str(i): i for i in range(3000)}

    def time_keys(self):
        for _ in self.d.keys():
            pass

    def time_values(self):
        for _ in self.d.values():
            pass


class Params:
    params = ([10, 100], ["list", "tuple"])
    param_names = ["n", "kind"]

    def time_build(self, n, kind):
        (list if kind == "list" else tuple)(range(n))


def mem_list():
    return [0] * 2048


def peakmem_range():
    sum(range(10000))


def track_items():
    return 42


def track_rows():
    return 7


track_rows.unit = "rows"  # type: ignore[attr-defined]


def time_fails():
    raise RuntimeError("this benchmark fails on purpose")


def timeraw_import():
    return "import json"
