"""Run every benchmark module in turn (`make bench`), but those marked ``RUN_WITH_ALL = False``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import bench


def main() -> int:
    failed = []
    for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        entry = getattr(module, "main", None)
        if entry is None or not getattr(module, "RUN_WITH_ALL", True):
            continue
        print(f"== bench.{module_info.name}", flush=True)
        try:
            code = entry([])
        except (Exception, SystemExit) as exc:
            # One bench that cannot finish (a server that did not start, a deadline passed)
            # is reported with the others, not left to end the whole run.
            traceback.print_exception(exc)
            code = 1
        if code != 0:
            failed.append(module_info.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
