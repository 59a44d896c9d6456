"""A campaign's output folder: its identity, one file per finished run, and the run table.

::

    OUT/campaign.json        the campaign file as validated, its fingerprint, the number of runs
    OUT/sites/KEY/           one folder per site (lupex.campaign.tasks.ensure_site)
    OUT/runs/RUN_ID.json     one file per finished run: run_id, replicate, params, summary
    OUT/campaign.parquet     one row per run, written when every run is finished

Every file is written atomically, so a file that exists is complete: a run file is the record
that the run is done, and a resumed campaign skips it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from lupex import __version__
from lupex.campaign.report import report_files
from lupex.campaign.spec import Campaign, Run
from lupex.errors import LupexError
from lupex.files import atomic_output, check_folder, claim_folder

__all__ = ["CampaignFolder"]


class CampaignFolder:
    """The output folder of one campaign.

    Parameters
    ----------
    root : Path
        The folder.
    campaign : Campaign
        The campaign it holds.
    """

    def __init__(self, root: Path, campaign: Campaign):
        self.root, self.campaign = Path(root), campaign
        self.sites = self.root / "sites"
        self.runs = self.root / "runs"

    def check(self) -> None:
        """Refuse a folder that holds something else than this campaign (before any work).

        Raises
        ------
        LupexError
            When the folder is a file, holds anything lupex did not write, holds another campaign,
            or holds files but no ``campaign.json``.
        """
        check_folder(self.root, [], overwrite=True)
        manifest = self.root / "campaign.json"
        if manifest.is_file():
            try:
                held = json.loads(manifest.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise LupexError(f"cannot read {manifest}: {exc}") from None
            if held.get("fingerprint") != self.campaign.fingerprint:
                raise LupexError(f"{self.root} holds another campaign ('{held.get('name')}', fingerprint "
                                 f"{str(held.get('fingerprint'))[:12]}); use another --out for this one")
        elif self.root.is_dir() and any(self.root.iterdir()):
            raise LupexError(f"{self.root} holds files but no campaign.json; use an empty or new folder for --out")

    def open(self) -> None:
        """Create the folder and record the campaign (after :meth:`check`); clear temporaries a killed
        run left behind."""
        claim_folder(self.root, [], overwrite=True,
                     keep=["campaign.json", "campaign.parquet", "sites", "runs", *report_files(self.campaign.varied)])
        self.sites.mkdir(parents=True, exist_ok=True)
        self.runs.mkdir(exist_ok=True)
        for leftover in [*self.sites.glob(".*.part"), *self.runs.glob(".*.part.json")]:
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        spec = self.campaign.spec
        manifest = {"lupex_version": __version__, "name": spec.campaign.name,
                    "fingerprint": self.campaign.fingerprint, "runs": len(self.campaign.runs),
                    "varied": self.campaign.varied, "spec": spec.model_dump(mode="json")}
        with atomic_output(self.root / "campaign.json", overwrite=True) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2) + "\n")

    def run_path(self, run: Run) -> Path:
        """Where the record of ``run`` lives."""
        return self.runs / f"{run.run_id}.json"

    def finished(self) -> set[str]:
        """The ids of the runs with a record."""
        return {path.stem for path in self.runs.glob("r*.json")} if self.runs.is_dir() else set()

    def write_run(self, run: Run, summary: dict[str, Any]) -> Path:
        """Record a finished run (atomically)."""
        record = {"run_id": run.run_id, "replicate": run.replicate, "params": run.params, "summary": summary}
        path = self.run_path(run)
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(record, indent=2) + "\n")
        return path

    def table(self) -> pd.DataFrame:
        """One row per run of the campaign, in run-id order: ``run_id``, ``replicate``, the varied
        parameters (dotted names), then the summary fields not among them."""
        rows = []
        for run in self.campaign.runs:
            record = json.loads(self.run_path(run).read_text())
            rows.append({"run_id": run.run_id, "replicate": run.replicate, **record["params"],
                         **{k: v for k, v in record["summary"].items() if k not in record["params"]}})
        return pd.DataFrame(rows)

    def write_table(self, frame: pd.DataFrame) -> Path:
        """Write ``frame`` (:meth:`table`) as ``campaign.parquet``, atomically."""
        path = self.root / "campaign.parquet"
        with atomic_output(path, overwrite=True) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
