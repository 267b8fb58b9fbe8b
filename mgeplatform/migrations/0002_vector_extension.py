from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector powers the values app's embedding search."""

    dependencies = [("mgeplatform", "0001_initial")]
    operations = [VectorExtension()]
