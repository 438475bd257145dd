"""Liên Thông: a data-integration hub for the Vietnam Fatherland Front and its member organisations."""

__version__ = "0.1.0"
