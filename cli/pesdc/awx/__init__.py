"""AWX / Ansible Automation Platform: the mesh layout (mesh), the jobs and their
playbooks (jobs) and the configuration-as-code export (export)."""
