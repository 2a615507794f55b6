"""Run by another program (php/exec_python.php): numbers in as arguments, JSON out, exit status 0/2.

    python3 compute.py 3 4 5   ->   {"sum": 12.0, "mean": 4.0, "count": 3, "python": "3.11.7"}
"""

import json
import platform
import sys


def main(args: list[str]) -> int:
    try:
        numbers = [float(a) for a in args]
    except ValueError as exc:
        print(f"not a number: {exc}", file=sys.stderr)
        return 2
    if not numbers:
        print("usage: compute.py NUMBER...", file=sys.stderr)
        return 2
    total = sum(numbers)
    print(json.dumps({"sum": total, "mean": total / len(numbers), "count": len(numbers),
                      "python": platform.python_version()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
