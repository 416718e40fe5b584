"""Each province's working calendar: the national holidays, its own, and make-up days."""
