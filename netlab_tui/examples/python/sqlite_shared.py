"""A shared SQLite database, the Python side: read what PHP (or the lab server) wrote.

    python3 sqlite_shared.py DB_PATH
"""

import sqlite3
import sys
from pathlib import Path


def main(path: str) -> int:
    db = sqlite3.connect(path, timeout=5.0)
    for message_id, sender, recipient, text in db.execute(
            "SELECT m.id, f.name, t.name, m.text FROM messages m "
            "JOIN users f ON f.id = m.from_id JOIN users t ON t.id = m.to_id ORDER BY m.id"):
        print(f"#{message_id} {sender} -> {recipient}: {text}")
    db.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: sqlite_shared.py DB_PATH", file=sys.stderr)
        sys.exit(2)
    if not Path(sys.argv[1]).is_file():  # sqlite3.connect would create an empty database
        print(f"no database at {sys.argv[1]}: start `netlab serve http` first, it prints the file it uses",
              file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
