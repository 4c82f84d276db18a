"""SQLAlchemy repositories by topic, implementing the ports of :mod:`ketamine_therapy.services.ports`; the unit of
work that opens them on one transaction is :mod:`ketamine_therapy.storage.unit_of_work`."""
