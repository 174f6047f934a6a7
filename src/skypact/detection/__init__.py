"""Detection: predicted losses of separation between aircraft (the contract of DESIGN.md).

- :mod:`skypact.detection.model`: :class:`ConflictSet`, the typed result;
- :mod:`skypact.detection.base`: the :class:`Detector` protocol and pair filters;
- :mod:`skypact.detection.exhaustive`: every pair, pure numpy (the reference);
- :mod:`skypact.detection.pairs`: time-sliced candidate pruning (compiled);
- :mod:`skypact.detection.cylinder`: the fast detector, pruning + exact test.
"""
