"""Called by PHP: shows exactly which arguments it received."""

import sys

print("python got", sys.argv[1:])
