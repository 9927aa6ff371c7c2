#!/usr/bin/env python3
"""Writes the SQL migrations into a C array: {version, sql} in file order."""
import os
import sys

out, inputs = sys.argv[1], sys.argv[2:]
with open(out, "w") as f:
    f.write("/* generated from the schema migrations by schema/embed.py */\n#include <stddef.h>\n")
    f.write("struct migration { int version; const char *name; const char *sql; };\n")
    f.write("const struct migration schema_migrations[] = {\n")
    for path in inputs:
        name = os.path.basename(path)
        version = int(name.split("_", 1)[0])
        sql = open(path).read()
        lit = sql.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n\"\n\"")
        f.write('\t{ %d, "%s", "%s" },\n' % (version, name, lit))
    f.write("\t{ 0, NULL, NULL },\n};\n")
