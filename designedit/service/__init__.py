"""`dedit serve`: render jobs over HTTP (spec/service.md).

- `jobs`: a job, its status and its folder under the jobs directory; read back at start (unfinished jobs
  of a stopped server become failed).
- `submit`: a POST turned into a job: upload checks (sizes, names the scene references), per-job settings.
- `worker`: the queue and its worker threads, each owning one renderer session (a model loaded once).
- `app`: the FastAPI routes (OpenAPI at /docs).
- `launch`: the pieces put together, behind designedit.web's guard.
"""
