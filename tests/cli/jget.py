# jget.py - print one value from JSON on stdin, for the cli tests
#
#   python3 jget.py EXPR < doc.json
# EXPR is a Python expression over the parsed document d, e.g.
# 'len(d["officers"])' or 'd["messages"][0]["visibility"]'. Strings print
# as they are, None as "null", True/False as "true"/"false", anything else
# as compact JSON with sorted keys.
import json
import sys

d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d, "json": json})
if isinstance(v, str):
    print(v)
elif v is None:
    print("null")
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (int, float)):
    print(v)
else:
    print(json.dumps(v, sort_keys=True, separators=(",", ":")))
