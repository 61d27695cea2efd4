"""Many scenes on one renderer: the scenes a command line names (`sources`), a manifest's rows for a
template (`manifest`), one render job each (`jobs`), run one after the other on one loaded model
(`serial`), in parallel processes for the preview (`processes`) or over a Ray cluster (`ray_cluster`),
and what each line and the exit status say (`report`)."""
