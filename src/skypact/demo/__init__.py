"""``skypact demo``: the multi-party service at work, end to end, on one machine.

- :mod:`skypact.demo.scenario`: the theatre over Syria, second by second (pure): who
  flies where, the planted encounter, the timeline of the operators' actions.
- :mod:`skypact.demo.agreement`: the model agreement re-keyed and signed by every
  party, so that it is in force.
- :mod:`skypact.demo.centre`: one party's operations centre (its client, its live feed,
  its duty officer) and the narrated transcript.
- :mod:`skypact.demo.driver`: the real service on loopback, the operations centres, the
  timeline, and the verdict (exit 1 when something expected did not happen).
"""
