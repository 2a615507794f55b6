"""A shared file, the Python side of php/shared_file.php: write DIR/from_python.json atomically, read
DIR/from_php.json if PHP left one.

    python3 shared_file.py DIR [MESSAGE]
"""

import datetime
import json
import os
import sys
from pathlib import Path


def main(directory: Path, message: str) -> int:
    document = {"from": "python", "message": message, "time": datetime.datetime.now().astimezone().isoformat()}
    tmp = directory / ".from_python.json.tmp"
    tmp.write_text(json.dumps(document) + "\n", encoding="utf-8")
    os.replace(tmp, directory / "from_python.json")  # atomic: readers see the old file or the new one
    print(f"wrote {directory / 'from_python.json'}")
    other = directory / "from_php.json"
    if other.is_file():
        print(f"php said: {json.loads(other.read_text(encoding='utf-8'))['message']}")
    else:
        print("no message from php yet")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: shared_file.py DIR [MESSAGE]", file=sys.stderr)
        sys.exit(2)
    if not Path(sys.argv[1]).is_dir():
        print(f"not a directory: {sys.argv[1]} (create it, and watch it with `netlab watch {sys.argv[1]}`)",
              file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "Hello from Python"))
