"""The service as it runs: a real ``skypact serve`` subprocess on loopback."""
