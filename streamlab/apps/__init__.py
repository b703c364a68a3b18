"""What people use: the command line and its command table, the demo, `up`/`down` and
`status`, the lessons site's build step, and the live dashboard (Lesson 17)."""
