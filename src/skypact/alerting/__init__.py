"""Alerting: from predicted conflicts to alerts operators can trust.

- :mod:`skypact.alerting.levels`: alert levels as data (:class:`AlertProfile`), built
  from an agreement; the raw level of each pair in one detection cycle.
- :mod:`skypact.alerting.lifecycle`: the pure transition function of one alert
  (M-of-N confirmation, persistence, hysteresis, acknowledgement, clearance, expiry).
"""
