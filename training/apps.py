from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # Connects the sign-in receiver that keeps an engineer's language, and
        # builds the translations a fresh clone has only as .po files.
        from training import i18n

        i18n.compile_stale_catalogues()
