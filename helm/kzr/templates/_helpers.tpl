{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "kzr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>` (or fullnameOverride), the prefix of every resource name. */}}
{{- define "kzr.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every resource; `component` (dict "root" . "component" "inference") names the part. */}}
{{- define "kzr.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "kzr.selectorLabels" . }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select one component's pods. */}}
{{- define "kzr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kzr.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image of every kzr process. */}}
{{- define "kzr.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* `host:port` of a kzr service inside the cluster. */}}
{{- define "kzr.endpoint" -}}
{{- printf "%s-%s:%d" (include "kzr.fullname" .root) .service (int (index .root.Values .service).port) -}}
{{- end -}}

{{/* KZR_NATS_URL: the chart's NATS or the external one. */}}
{{- define "kzr.natsUrl" -}}
{{- if .Values.nats.deploy -}}
{{- printf "nats://%s-nats:4222" (include "kzr.fullname" .) -}}
{{- else -}}
{{- required "nats.url is required when nats.deploy is false" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* KZR_S3_ENDPOINT: the chart's MinIO or the external one. */}}
{{- define "kzr.s3Endpoint" -}}
{{- if .Values.s3.deploy -}}
{{- printf "http://%s-minio:9000" (include "kzr.fullname" .) -}}
{{- else -}}
{{- required "s3.endpoint is required when s3.deploy is false" .Values.s3.endpoint -}}
{{- end -}}
{{- end -}}

{{/*
The environment every kzr process and phase Job shares: the Bus, the Store (credentials from the
existing Secret only), logging and telemetry. Each name is one platform's config reads
(packages/platform/src/adapters.ts, config.ts, telemetry/start.ts).
*/}}
{{- define "kzr.sharedEnv" -}}
- name: KZR_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: KZR_DATA_DIR
  value: /tmp/kzr
- name: KZR_BUS
  value: nats
- name: KZR_NATS_URL
  value: {{ include "kzr.natsUrl" . | quote }}
- name: KZR_NATS_STREAM
  value: {{ .Values.nats.stream | quote }}
- name: KZR_STORE
  value: s3
- name: KZR_S3_ENDPOINT
  value: {{ include "kzr.s3Endpoint" . | quote }}
- name: KZR_S3_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: KZR_S3_REGION
  value: {{ .Values.s3.region | quote }}
- name: KZR_S3_PART_SIZE_MB
  value: {{ .Values.s3.partSizeMb | quote }}
- name: KZR_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: {{ .Values.s3.accessKeyKey }}
- name: KZR_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: {{ .Values.s3.secretKeyKey }}
{{- if .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
{{- end }}
{{- end -}}

{{/* The emptyDir every pod mounts at /tmp (the root filesystem is read-only). */}}
{{- define "kzr.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
