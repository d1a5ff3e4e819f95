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
{{- include "kzr.secretFileEnv" (dict "root" . "grpc" false) }}
{{- end -}}

{{/*
The files kzr reads from existing Secrets, as a YAML list: with (dict "root" $ "grpc" false)
the Store's and Bus's (NATS credentials and CA, the S3 CA; every service and phase Job), with
"grpc" true the services' gRPC ones (TLS certificate, key and CA; the access file and the
services' own token). Each entry: the volume, the Secret, its items (key -> file), the folder it
is mounted at and the variables naming its files (platform: adapters.ts, grpc/tls.ts, config.ts).
*/}}
{{- define "kzr.secretFiles" -}}
{{- $v := .root.Values -}}
{{- $files := list -}}
{{- if not .grpc -}}
{{- if $v.nats.credentialsSecret -}}
{{- $files = append $files (dict "volume" "nats-credentials" "secret" $v.nats.credentialsSecret "dir" "/etc/kzr/nats-credentials" "items" (list (dict "key" $v.nats.credentialsKey "path" "nats.creds")) "env" (dict "KZR_NATS_CREDS_FILE" "/etc/kzr/nats-credentials/nats.creds")) -}}
{{- end -}}
{{- if $v.nats.caSecret -}}
{{- $files = append $files (dict "volume" "nats-ca" "secret" $v.nats.caSecret "dir" "/etc/kzr/nats-ca" "items" (list (dict "key" $v.nats.caKey "path" "ca.crt")) "env" (dict "KZR_NATS_CA_FILE" "/etc/kzr/nats-ca/ca.crt")) -}}
{{- end -}}
{{- if $v.s3.caSecret -}}
{{- if not (hasPrefix "https://" (include "kzr.s3Endpoint" .root)) -}}
{{- fail "s3.caSecret needs an https:// s3.endpoint" -}}
{{- end -}}
{{- $files = append $files (dict "volume" "s3-ca" "secret" $v.s3.caSecret "dir" "/etc/kzr/s3-ca" "items" (list (dict "key" $v.s3.caKey "path" "ca.crt")) "env" (dict "KZR_S3_CA_FILE" "/etc/kzr/s3-ca/ca.crt")) -}}
{{- end -}}
{{- else -}}
{{- if $v.tls.existingSecret -}}
{{- $env := dict "KZR_GRPC_TLS_CERT_FILE" "/etc/kzr/tls/tls.crt" "KZR_GRPC_TLS_KEY_FILE" "/etc/kzr/tls/tls.key" "KZR_GRPC_TLS_CA_FILE" "/etc/kzr/tls/ca.crt" -}}
{{- if $v.tls.mtls -}}
{{- $_ := set $env "KZR_GRPC_TLS_CLIENT_CA_FILE" "/etc/kzr/tls/ca.crt" -}}
{{- end -}}
{{- $items := list (dict "key" "tls.crt" "path" "tls.crt") (dict "key" "tls.key" "path" "tls.key") (dict "key" "ca.crt" "path" "ca.crt") -}}
{{- $files = append $files (dict "volume" "grpc-tls" "secret" $v.tls.existingSecret "dir" "/etc/kzr/tls" "items" $items "env" $env) -}}
{{- else if $v.tls.mtls -}}
{{- fail "tls.mtls needs tls.existingSecret (the kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt)" -}}
{{- end -}}
{{- if $v.auth.existingSecret -}}
{{- $items := list (dict "key" $v.auth.accessFileKey "path" "tokens.json") (dict "key" $v.auth.tokenKey "path" "token") -}}
{{- $files = append $files (dict "volume" "auth" "secret" $v.auth.existingSecret "dir" "/etc/kzr/auth" "items" $items "env" (dict "KZR_AUTH_TOKENS_FILE" "/etc/kzr/auth/tokens.json" "KZR_AUTH_TOKEN_FILE" "/etc/kzr/auth/token")) -}}
{{- end -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}

{{/* The variables naming the files of "kzr.secretFiles" (same argument). */}}
{{- define "kzr.secretFileEnv" -}}
{{- range $file := include "kzr.secretFiles" . | fromYamlArray }}
{{- range $name, $path := $file.env }}
- name: {{ $name }}
  value: {{ $path | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The volumeMounts of "kzr.secretFiles" (same argument). */}}
{{- define "kzr.secretFileMounts" -}}
{{- range $file := include "kzr.secretFiles" . | fromYamlArray }}
- name: {{ $file.volume }}
  mountPath: {{ $file.dir }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The Secret volumes of "kzr.secretFiles" (same argument). */}}
{{- define "kzr.secretFileVolumes" -}}
{{- range $file := include "kzr.secretFiles" . | fromYamlArray }}
- name: {{ $file.volume }}
  secret:
    secretName: {{ $file.secret }}
    items:
      {{- toYaml $file.items | nindent 6 }}
{{- end }}
{{- end -}}

{{/*
Whether the services serve every caller (KZR_INSECURE=1): no access file and no mTLS. A server
binding 0.0.0.0 without auth refuses to start otherwise (platform config.ts).
*/}}
{{- define "kzr.insecure" -}}
{{- if not (or .Values.auth.existingSecret (and .Values.tls.existingSecret .Values.tls.mtls)) -}}true{{- end -}}
{{- end -}}

{{/*
KZR_TRAINER_JOB_COMMAND: what a phase Job runs before `phase run ...`, the image's kzr command
(the image's WORKDIR is /app; images/cpu.Dockerfile), as a JSON array.
*/}}
{{- define "kzr.jobCommand" -}}
{{- list "node" "--conditions=production" "/app/packages/cli/bin/kzr.js" | toJson -}}
{{- end -}}

{{/* The emptyDir every pod mounts at /tmp (the root filesystem is read-only). */}}
{{- define "kzr.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
