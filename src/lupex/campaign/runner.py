"""Run a campaign: each site once, then every run not yet finished, in process or on Dask.

The runs' records are written by this process only, one atomic file as each run's result
arrives (:class:`lupex.campaign.store.CampaignFolder`), so nothing finished is lost to a
Ctrl-C or a dead worker, and a rerun of the same command skips what is done. On Dask, a site
is one task and each run a task that waits for its site; a worker that dies takes its task
with it and the scheduler runs it again elsewhere (up to Dask's
``distributed.scheduler.allowed-failures``, 3 by default), and a run that raises is retried
:data:`RETRIES` times. Results do not depend on the order or the worker: a run is a pure
function of its configuration and its site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lupex.campaign.report import report_files, write_campaign_report
from lupex.campaign.spec import Campaign, Run
from lupex.campaign.store import CampaignFolder
from lupex.campaign.tasks import ensure_site, run_one, site_key
from lupex.cluster import connect
from lupex.files import output_lock
from lupex.mission import MissionConfig, check_site

__all__ = ["CampaignInterrupted", "CampaignResult", "run_campaign"]

RETRIES = 2
"""Times a run or site task that raised is tried again [-]."""


class CampaignInterrupted(Exception):
    """Ctrl-C: the runs finished so far are recorded; ``finished`` of ``total`` are done."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} runs finished")
        self.finished, self.total = finished, total


@dataclass
class CampaignResult:
    """What a campaign run did.

    Attributes
    ----------
    total : int
        Runs of the campaign [-].
    resumed : int
        Runs found finished in the folder and skipped [-].
    failed : dict
        Run id -> the error of each run that failed for good (then no table is written).
    table : Path or None
        ``campaign.parquet``, when every run is finished.
    reports : list of Path
        The report's files.
    """

    total: int
    resumed: int
    failed: dict[str, str] = field(default_factory=dict)
    table: Path | None = None
    reports: list[Path] = field(default_factory=list)


def _sites(runs: list[Run]) -> dict[str, MissionConfig]:
    """One configuration per distinct site of ``runs``, by site key."""
    sites: dict[str, MissionConfig] = {}
    for run in runs:
        sites.setdefault(site_key(run.config), run.config)
    return sites


def run_campaign(campaign: Campaign, out_dir: str | Path, workers: int = 2, scheduler: str | None = None,
                 on_run: Callable[[int, int], None] | None = None,
                 step: Callable[[str], Any] | None = None) -> CampaignResult:
    """Run every unfinished run of ``campaign`` into ``out_dir`` and write the table and the report.

    Parameters
    ----------
    campaign : Campaign
        The expanded campaign (:func:`lupex.campaign.spec.load_campaign`).
    out_dir : path-like
        The campaign's folder: new, empty, or holding this campaign (resumed).
    workers : int
        Worker processes of a local Dask cluster; 0 runs everything in this process, serially.
    scheduler : str, optional
        Address of a running Dask scheduler to use instead of a local cluster; its workers must
        see ``out_dir`` at the same path (they write the sites there).
    on_run : callable, optional
        ``on_run(finished, total)`` after each run is recorded (and once at the start).
    step : callable, optional
        Called with a short description as each phase starts.

    Raises
    ------
    LupexError
        Before any work: a folder holding something else, a site that cannot work (period outside
        the ephemeris, DEM unusable or too small), an unreachable scheduler.
    CampaignInterrupted
        After Ctrl-C, with the finished runs recorded.
    """
    on_run = on_run or (lambda finished, total: None)
    step = step or (lambda message: None)
    with output_lock(out_dir):  # a second run on the same folder is refused at once
        return _run_locked(CampaignFolder(Path(out_dir), campaign), workers, scheduler, on_run, step)


def _run_locked(folder: CampaignFolder, workers: int, scheduler: str | None, on_run: Callable[[int, int], None],
                step: Callable[[str], Any]) -> CampaignResult:
    """:func:`run_campaign` while it holds the folder's lock."""
    campaign = folder.campaign
    folder.check()
    done = folder.finished()
    todo = [run for run in campaign.runs if run.run_id not in done]
    sites = _sites(todo)
    for config in sites.values():
        check_site(config)
    result = CampaignResult(total=len(campaign.runs), resumed=len(campaign.runs) - len(todo))
    finished = result.resumed

    def record(run: Run, summary: dict[str, Any]) -> None:
        nonlocal finished
        folder.write_run(run, summary)
        finished += 1
        on_run(finished, result.total)

    def open_folder() -> None:
        folder.open()
        if todo:  # the table and report of an earlier, smaller campaign would pass for this one's
            for name in ("campaign.parquet", *report_files(campaign.varied)):
                (folder.root / name).unlink(missing_ok=True)
        on_run(finished, result.total)

    try:
        if workers == 0 and scheduler is None:
            open_folder()
            result.failed = _serial(sites, todo, folder, record, step)
        else:
            with connect(workers, scheduler) as client:
                open_folder()
                result.failed = _on_dask(client, sites, todo, folder, record, step)
    except KeyboardInterrupt:
        raise CampaignInterrupted(finished, result.total) from None
    if result.failed:  # no table: open_folder removed an earlier one
        return result
    step("writing campaign.parquet and the report")
    frame = folder.table()
    result.table = folder.write_table(frame)
    result.reports = write_campaign_report(frame, campaign.varied, folder.root)
    return result


def _serial(sites: dict[str, MissionConfig], todo: list[Run], folder: CampaignFolder,
            record: Callable[[Run, dict[str, Any]], None], step: Callable[[str], Any]) -> dict[str, str]:
    for number, config in enumerate(sites.values(), 1):
        step(f"site {number} of {len(sites)}")
        ensure_site(config, folder.sites)
    step(f"{len(todo)} runs")
    failed: dict[str, str] = {}
    for run in todo:
        for attempt in range(RETRIES + 1):  # as the Dask path: retried, then reported, the others go on
            try:
                summary = run_one(run.config, folder.sites)
            except Exception as error:
                if attempt == RETRIES:
                    failed[run.run_id] = f"{type(error).__name__}: {error}"
            else:
                record(run, summary)
                break
    return failed


def _on_dask(client, sites: dict[str, MissionConfig], todo: list[Run], folder: CampaignFolder,
             record: Callable[[Run, dict[str, Any]], None], step: Callable[[str], Any]) -> dict[str, str]:
    from distributed import as_completed

    # Keys carry the campaign's fingerprint: a shared scheduler may hold another campaign's runs.
    tag = folder.campaign.fingerprint[:12]
    sites_dir = str(folder.sites)
    step(f"{len(sites)} sites and {len(todo)} runs on {len(client.scheduler_info()['workers'])} workers")
    site_tasks = {key: client.submit(ensure_site, config, sites_dir, key=f"lupex-site-{tag}-{key}",
                                     retries=RETRIES) for key, config in sites.items()}
    # Priorities keep the run-id order, so the runs that share a world come together and find it cached.
    runs = {client.submit(run_one, run.config, sites_dir, site_tasks[site_key(run.config)],
                          key=f"lupex-run-{tag}-{run.run_id}", retries=RETRIES, priority=len(todo) - index): run
            for index, run in enumerate(todo)}
    failed: dict[str, str] = {}
    for future in as_completed(runs):
        run = runs[future]
        if future.status == "finished":
            record(run, future.result())
        elif future.status == "error":
            error = future.exception()
            failed[run.run_id] = f"{type(error).__name__}: {error}"
        else:  # cancelled: the scheduler dropped it (lost connection, restarted cluster)
            failed[run.run_id] = f"task {future.status}"
        future.release()
    return failed

