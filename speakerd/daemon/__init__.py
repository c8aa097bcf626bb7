"""The one place that builds and wires the parts, schedules them and rebuilds what a reload changed."""
