"""pesdc on an automation mesh: a pesdc job as an ansible-runner job.

An AWX / Automation Platform controller carries a job to an execution node as a stream
(``ansible-runner transmit | ansible-runner worker | ansible-runner process``). ``job``
builds the job's private data directory, ``pipe`` runs the three ends as real
processes, ``lab`` places the worker on a center's bastion host in the lab.
"""
