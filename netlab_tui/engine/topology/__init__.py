"""Hosts as network namespaces, for multi-host labs: the topology description (``model``), the namespace
primitives (``netns``), a running topology and its hosts (``network``), and the record of runs that
``netlab topo list`` shows and ``netlab topo clean`` sweeps (``runs``).

Nothing is ever added to the machine's own namespace: each host and each segment's bridge live in
namespaces of their own, veth pairs are created directly inside them, and every object carries the
run's prefix (``nl`` + 4 hex digits).

May import: ``engine.core`` and pyroute2. Tools never import this package: they run on a host through
``engine.core.place`` (a ``Place`` opens sockets and prefixes commands), which ``network.HostPlace``
implements.
"""
