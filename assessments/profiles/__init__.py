"""T-shaped profile dashboards: the manager's T, the team's picture, HR's drill-down."""
