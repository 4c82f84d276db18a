"""Use cases that join the pharmacology core and the clinic (framework-free)."""
