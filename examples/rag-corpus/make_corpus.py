"""Writes docs/<module>.md from the docstrings of Python standard library modules.

The corpus is real documentation (a typical RAG source) that every CPython ships, so it can
be rebuilt offline. It was generated with CPython 3.11; other versions word some docstrings
differently, which is why the generated files are committed rather than made at test time.

    python3 make_corpus.py
"""

import importlib
import pathlib
import textwrap

MODULES = """
argparse optparse getopt csv json re hashlib heapq shelve dbm subprocess smtplib tempfile
timeit pdb wave aifc sunau statistics uuid configparser copy fileinput socket socketserver
ssl sched random zlib unittest doctest plistlib mimetypes cmd rlcompleter ast inspect ftplib
gc time marshal struct sqlite3 os itertools difflib collections io sys typing tokenize string
site pydoc codeop chunk asyncore
""".split()

out = pathlib.Path(__file__).parent / "docs"
out.mkdir(exist_ok=True)
for name in MODULES:
    module = importlib.import_module(name)
    doc = textwrap.dedent(module.__doc__ or "").strip()
    (out / f"{name}.md").write_text(f"# {name}\n\n{doc}\n", encoding="utf-8")
print(f"wrote {len(MODULES)} documents into {out}")
