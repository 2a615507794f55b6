"""Call the lab's XML-RPC service.

netlab runs it as: python calc_client.py URL
"""

import sys
import xmlrpc.client

proxy = xmlrpc.client.ServerProxy(sys.argv[1].rsplit(":", 1)[0] + ":1")  # a port where nothing listens
print("add(2, 3) =", proxy.add(2, 3))
print("double('ab') =", proxy.double("ab"))
print("sub(10, 4) =", proxy.sub(10, 4))
