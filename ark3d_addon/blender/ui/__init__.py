"""What the add-on draws: the sidebar panels, the tasks browser and the progress display."""
