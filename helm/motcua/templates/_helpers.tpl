{{/* Names, labels and the settings every pod shares. */}}

{{- define "motcua.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "motcua.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "motcua.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "motcua.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: api, worker or migrations. */}}
{{- define "motcua.selectorLabels" -}}
app.kubernetes.io/name: {{ include "motcua.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "motcua.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "motcua.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "motcua.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: an existing one, or the one this chart makes. */}}
{{- define "motcua.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "motcua.fullname" . }}
{{- end }}
{{- end }}

{{/* The Secret the migration hook reads: it runs before the release's own Secret exists. */}}
{{- define "motcua.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrations" (include "motcua.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Secret data, for the release's Secret and the hook's copy. Fails early without addresses. */}}
{{- define "motcua.secretData" -}}
{{- $s := .Values.secrets }}
MOTCUA_DATABASE_URL: {{ required "secrets.databaseUrl (or secrets.existingSecret) is required: PostgreSQL is external" $s.databaseUrl | b64enc | quote }}
MOTCUA_REDIS_URL: {{ required "secrets.redisUrl (or secrets.existingSecret) is required: Redis is external" $s.redisUrl | b64enc | quote }}
MOTCUA_SECRET_KEYS: {{ required "secrets.secretKeys (or secrets.existingSecret) is required: Fernet keys for secrets at rest" $s.secretKeys | b64enc | quote }}
MOTCUA_SESSION_KEYS: {{ required "secrets.sessionKeys (or secrets.existingSecret) is required: keys that sign staff sessions" $s.sessionKeys | b64enc | quote }}
{{- range $name, $value := $s.extra }}
{{ $name }}: {{ $value | toString | b64enc | quote }}
{{- end }}
{{- end }}

{{- define "motcua.platformHosts" -}}
{{- $hosts := list .Values.ingress.platform.host }}
{{- range .Values.config.platformHosts }}{{ $hosts = append $hosts . }}{{ end }}
{{- $hosts = append $hosts "localhost" }}
{{- join "," (uniq $hosts) }}
{{- end }}

{{- define "motcua.publicBaseUrl" -}}
{{- if .Values.config.publicBaseUrl }}
{{- .Values.config.publicBaseUrl }}
{{- else }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.platform.tlsSecretName))) .Values.ingress.platform.host }}
{{- end }}
{{- end }}

{{/* Non-secret settings as KEY: "value" lines: the ConfigMap's data, and the hook's env. */}}
{{- define "motcua.configData" -}}
{{- $c := .Values.config }}
MOTCUA_ENVIRONMENT: {{ $c.environment | quote }}
MOTCUA_LOG_LEVEL: {{ $c.logLevel | quote }}
MOTCUA_PLATFORM_HOSTS: {{ include "motcua.platformHosts" . | quote }}
MOTCUA_PUBLIC_BASE_URL: {{ include "motcua.publicBaseUrl" . | quote }}
MOTCUA_QUEUE_NAME: {{ $c.queueName | quote }}
MOTCUA_DATABASE_ROLE: {{ $c.databaseRole | quote }}
MOTCUA_DATABASE_POOL_SIZE: {{ $c.databasePoolSize | int64 | quote }}
MOTCUA_MAX_BODY_BYTES: {{ $c.maxBodyBytes | int64 | quote }}
MOTCUA_RESPONSE_CACHE_SECONDS: {{ $c.responseCacheSeconds | int64 | quote }}
MOTCUA_WORKER_CONCURRENCY: {{ $c.workerConcurrency | int64 | quote }}
MOTCUA_PROVIDER_CONNECTIONS: {{ $c.providerConnections | int64 | quote }}
MOTCUA_NOTICE_STUCK_SECONDS: {{ $c.noticeStuckSeconds | int64 | quote }}
MOTCUA_HOST: "0.0.0.0"
MOTCUA_PORT: {{ .Values.api.port | int64 | quote }}
MOTCUA_DATA_DIR: "/tmp/motcua"
{{- range $name, $value := $c.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* What every pod of the release mounts and how it runs. */}}
{{- define "motcua.podCommon" -}}
serviceAccountName: {{ include "motcua.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "motcua.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{- define "motcua.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "motcua.envFrom" -}}
- configMapRef:
    name: {{ include "motcua.fullname" . }}
- secretRef:
    name: {{ include "motcua.secretName" . }}
{{- end }}

{{- define "motcua.checksums" -}}
checksum/config: {{ include "motcua.configData" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include "motcua.secretData" . | sha256sum }}
{{- end }}
{{- end }}
