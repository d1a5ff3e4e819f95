{{/*
The batch/v1 Job every phase Job is laid over (KZR_JOB_TEMPLATE_FILE): one container named
`phase` with the image, resources, scheduling, retries, deadlines, service account, security
context, /tmp volume and the Store and Bus environment and Secret files. The trainer adds the name, labels,
command, arguments, the phase's environment and, for training phases, the nvidia.com/gpu limit;
so no GPU limit is set here. `.Values.jobs.override` is merged last.
*/}}
{{- define "kzr.jobTemplate" -}}
{{- $job := include "kzr.jobTemplateBase" . | fromYaml -}}
{{- toYaml (mustMergeOverwrite $job (deepCopy .Values.jobs.override)) -}}
{{- end -}}

{{- define "kzr.jobTemplateBase" -}}
{{- $ctx := dict "root" . "component" "phase" -}}
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    {{- include "kzr.labels" $ctx | nindent 4 }}
spec:
  backoffLimit: {{ .Values.jobs.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.jobs.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ .Values.jobs.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "kzr.labels" $ctx | nindent 8 }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ include "kzr.fullname" . }}-phase
      automountServiceAccountToken: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      {{- with .Values.jobs.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.jobs.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.jobs.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: phase
          image: {{ default (include "kzr.image" .) .Values.jobs.image }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          env:
            {{- include "kzr.sharedEnv" . | nindent 12 }}
          resources:
            {{- toYaml .Values.jobs.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include "kzr.secretFileMounts" (dict "root" . "grpc" false) | nindent 12 }}
      volumes:
        {{- include "kzr.tmpVolume" . | nindent 8 }}
        {{- include "kzr.secretFileVolumes" (dict "root" . "grpc" false) | nindent 8 }}
{{- end -}}
