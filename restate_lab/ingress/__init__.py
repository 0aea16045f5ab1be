"""The HTTP front end: ingress (:8080) and admin API (:9070) over the in-process runtime."""
