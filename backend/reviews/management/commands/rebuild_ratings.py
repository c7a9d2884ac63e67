from django.core.management.base import BaseCommand

from backend.reviews.services import ratings_rebuild


class Command(BaseCommand):
    help = "Recompute every salon's and staff member's rating and review count from the visible reviews."

    def handle(self, *args, **options) -> None:
        salons = ratings_rebuild()
        self.stdout.write(f"Ratings rebuilt for {salons} salons.")
