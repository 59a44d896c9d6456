"""Route planning: least-cost routes over costmaps (static planner); later, time-dependent
planners, site selection and targets."""
