FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY . .
RUN pip install . && useradd --system crs && mkdir -p /data && chown crs /data
USER crs
WORKDIR /data
EXPOSE 8080
# Production settings come from the environment (see docker-compose.yml and the README).
CMD ["crs-cds", "serve", "--host", "0.0.0.0", "--port", "8080"]
