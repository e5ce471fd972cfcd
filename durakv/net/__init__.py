"""Sockets only: accept, read bytes, write bytes, backpressure, ordered reply release."""
