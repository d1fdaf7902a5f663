FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . && useradd --system crs && mkdir -p /data && chown crs /data
USER crs
EXPOSE 8080
CMD ["crs-cds", "serve", "--host", "0.0.0.0", "--port", "8080"]
