# The IVR controller (ARI client, flows, ACD, web). Asterisk runs in docker/asterisk.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README* ./
COPY ivr/ ivr/
COPY acd/ acd/
COPY asterisk_conf/ asterisk_conf/
RUN pip install --no-cache-dir .
ENV IVR_PBX=external \
    IVR_DATA_DIR=/var/lib/ivr \
    IVR_HTTP_HOST=0.0.0.0
EXPOSE 8080
CMD ["ivr", "up"]
