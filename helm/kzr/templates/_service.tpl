{{/*
One kzr service: a Deployment and a ClusterIP Service. Called with
(dict "root" $ "service" "inference"); the service's values are `.Values.<service>`.
Probes use Kubernetes' native gRPC probes on the plaintext health-only port (KZR_HEALTH_PORT):
startup and liveness on the `liveness` health name, readiness on the overall health ('').
*/}}
{{- define "kzr.deployment" -}}
{{- $root := .root -}}
{{- $name := .service -}}
{{- $v := index $root.Values $name -}}
{{- $ctx := dict "root" $root "component" $name -}}
{{- $fullname := include "kzr.fullname" $root -}}
{{- $graceMs := add (mul $root.Values.preStopSleepSeconds 1000) $root.Values.shutdownGraceMs -}}
{{- if le (int (mul $root.Values.terminationGracePeriodSeconds 1000)) (int $graceMs) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must exceed preStopSleepSeconds plus shutdownGraceMs (%d ms)" (int $root.Values.terminationGracePeriodSeconds) (int $graceMs)) -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}-{{ $name }}
  labels:
    {{- include "kzr.labels" $ctx | nindent 4 }}
spec:
  {{- if eq $name "trainer" }}
  replicas: 1
  strategy:
    type: Recreate
  {{- else if not (dig "autoscaling" "enabled" false $v) }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "kzr.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "kzr.labels" $ctx | nindent 8 }}
      annotations:
        {{- if eq $name "trainer" }}
        checksum/job-template: {{ include "kzr.jobTemplate" $root | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- if eq $name "trainer" }}
      serviceAccountName: {{ $fullname }}-trainer
      {{- else }}
      automountServiceAccountToken: false
      {{- end }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      {{- if $root.Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
          topologyKey: {{ $root.Values.topologySpread.topologyKey }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "kzr.selectorLabels" $ctx | nindent 14 }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "kzr.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [node]
          args:
            - --conditions=production
            - --import
            - ./services/{{ $name }}/dist/src/instrumentation.js
            - services/{{ $name }}/dist/src/main.js
          ports:
            - name: grpc
              containerPort: {{ $v.port }}
            - name: health
              containerPort: {{ $root.Values.healthPort }}
            {{- if $root.Values.metrics.enabled }}
            - name: metrics
              containerPort: {{ $root.Values.metrics.port }}
            {{- end }}
          env:
            - name: KZR_GRPC_HOST
              value: 0.0.0.0
            - name: KZR_GRPC_PORT
              value: {{ $v.port | quote }}
            - name: KZR_HEALTH_PORT
              value: {{ $root.Values.healthPort | quote }}
            - name: KZR_GRPC_MAX_MESSAGE_BYTES
              value: {{ $root.Values.grpcMaxMessageBytes | quote }}
            - name: KZR_SHUTDOWN_GRACE_MS
              value: {{ $root.Values.shutdownGraceMs | quote }}
            {{- if $root.Values.metrics.enabled }}
            - name: KZR_METRICS_PORT
              value: {{ $root.Values.metrics.port | quote }}
            - name: KZR_METRICS_HOST
              value: 0.0.0.0
            {{- end }}
            {{- include "kzr.sharedEnv" $root | nindent 12 }}
            {{- include "kzr.secretFileEnv" (dict "root" $root "grpc" true) | nindent 12 }}
            {{- if include "kzr.insecure" $root }}
            - name: KZR_INSECURE
              value: "1"
            {{- end }}
            {{- if eq $name "inference" }}
            - name: KZR_PREPROCESS_ENDPOINT
              value: {{ include "kzr.endpoint" (dict "root" $root "service" "preprocess") | quote }}
            - name: KZR_POSTPROCESS_ENDPOINT
              value: {{ include "kzr.endpoint" (dict "root" $root "service" "postprocess") | quote }}
            {{- with $v.modelSets }}
            - name: KZR_INFERENCE_MODEL_SETS
              value: {{ join "," . | quote }}
            {{- end }}
            {{- with $v.engine }}
            - name: KZR_INFERENCE_ENGINE
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.tfBackend }}
            - name: KZR_TF_BACKEND
              value: {{ . | quote }}
            {{- end }}
            {{- end }}
            {{- if eq $name "trainer" }}
            - name: KZR_JOBS
              value: kubernetes
            - name: KZR_KUBE_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: KZR_KUBE_SERVICE_ACCOUNT
              value: {{ $fullname }}-phase
            - name: KZR_JOB_TEMPLATE_FILE
              value: /etc/kzr/job-template/job.yaml
            # Phase Jobs run the image's kzr command (WORKDIR /app, images/cpu.Dockerfile).
            - name: KZR_TRAINER_JOB_COMMAND
              value: {{ include "kzr.jobCommand" $root | quote }}
            {{- end }}
            {{- range $key, $value := $v.env }}
            - name: {{ $key }}
              value: {{ $value | quote }}
            {{- end }}
          startupProbe:
            grpc:
              port: {{ $root.Values.healthPort }}
              service: liveness
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: {{ max 1 (div (add $v.startupSeconds 4) 5) }}
          livenessProbe:
            grpc:
              port: {{ $root.Values.healthPort }}
              service: liveness
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          readinessProbe:
            grpc:
              port: {{ $root.Values.healthPort }}
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 2
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $root.Values.preStopSleepSeconds }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include "kzr.secretFileMounts" (dict "root" $root "grpc" false) | nindent 12 }}
            {{- include "kzr.secretFileMounts" (dict "root" $root "grpc" true) | nindent 12 }}
            {{- if eq $name "trainer" }}
            - name: job-template
              mountPath: /etc/kzr/job-template
              readOnly: true
            {{- end }}
      volumes:
        {{- include "kzr.tmpVolume" $root | nindent 8 }}
        {{- include "kzr.secretFileVolumes" (dict "root" $root "grpc" false) | nindent 8 }}
        {{- include "kzr.secretFileVolumes" (dict "root" $root "grpc" true) | nindent 8 }}
        {{- if eq $name "trainer" }}
        - name: job-template
          configMap:
            name: {{ $fullname }}-job-template
        {{- end }}
{{- end -}}

{{/* The Deployment with `.Values.<service>.override` merged over it, then its Service. */}}
{{- define "kzr.service" -}}
{{- $v := index .root.Values .service -}}
{{- $deployment := include "kzr.deployment" . | fromYaml -}}
{{- toYaml (mustMergeOverwrite $deployment (deepCopy $v.override)) }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "kzr.fullname" .root }}-{{ .service }}
  labels:
    {{- include "kzr.labels" (dict "root" .root "component" .service) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "kzr.selectorLabels" (dict "root" .root "component" .service) | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $v.port }}
      targetPort: grpc
      appProtocol: grpc
    - name: health
      port: {{ .root.Values.healthPort }}
      targetPort: health
      appProtocol: grpc
    {{- if .root.Values.metrics.enabled }}
    - name: metrics
      port: {{ .root.Values.metrics.port }}
      targetPort: metrics
    {{- end }}
{{- end -}}
