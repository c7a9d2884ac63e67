# One image for every process (web, worker, notifications, beat, flower, migrate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements/ requirements/
# requirements/s3.txt adds boto3 for STORAGE_BACKEND=s3: --build-arg REQUIREMENTS=requirements/s3.txt
ARG REQUIREMENTS=requirements/prod.txt
RUN pip install -r ${REQUIREMENTS}

COPY . .
# Static files are collected at build time; the key is only needed to import settings.
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://build/build \
    REDIS_URL=redis://build:6379/0 python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 app && chown -R app /app
USER app
EXPOSE 8000 5555
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py", "--bind", "0.0.0.0:8000"]
