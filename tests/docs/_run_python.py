"""Run one Python sample of a guide: ``python _run_python.py SAMPLE.py``.

Samples may ``await`` at the top level, as in an async REPL (``python -m asyncio``): such a
sample runs in ``asyncio.run``.
"""

import ast
import asyncio
import inspect
import sys
from pathlib import Path


def main(path: str) -> None:
    source = Path(path).read_text(encoding="utf-8")
    code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": "__main__"}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


if __name__ == "__main__":
    main(sys.argv[1])
