from odoo import api, models


class WorkshopWorkerConfigPart(models.AbstractModel):
    """A record that is part of a worker's config (a machine, a badge reader): creating one, changing
    one of its ``_worker_config_fields``, or deleting one bumps the config version of the workers
    concerned — the old and the new one when it moves — and queues the post-commit push. The model
    has a ``worker_id``."""

    _name = "workshop.worker.config.part"
    _description = "Part of a worker's config"

    _worker_config_fields = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records.worker_id._config_changed()
        return records

    def write(self, vals):
        old_workers = self.worker_id if self._worker_config_fields.intersection(vals) else None
        res = super().write(vals)
        if old_workers is not None:
            (old_workers | self.worker_id)._config_changed()
        return res

    def unlink(self):
        workers = self.worker_id
        res = super().unlink()
        workers.exists()._config_changed()
        return res
