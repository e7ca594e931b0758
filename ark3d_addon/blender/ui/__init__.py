"""What the add-on draws: the sidebar panels, the Tasks list and small drawing helpers; nothing else."""
