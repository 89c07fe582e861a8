"""What the `dbos` command and the dashboard share: finding and opening a system database
without launching anything, reading workflows for display, and the control actions."""
