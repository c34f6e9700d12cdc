-- Argo CD health of every dask-kubernetes kind (DaskCluster, DaskWorkerGroup, DaskJob,
-- DaskAutoscaler), read from the kstatus conditions the operator writes (Ready,
-- Reconciling, Stalled with observedGeneration), in kstatus's order.
--
-- The folder is `_`: in Argo CD's resource_customizations tree a `_` path segment is
-- the wildcard `*`, so this one script is the health check of `kubernetes.dask.org/*`.
-- overlays/argocd/argocd-cm.yaml holds this same script once for each kind, under
-- resource.customizations.health.kubernetes.dask.org_<Kind>, which every Argo CD
-- version reads.  Messages that name the object's kind take it from obj.kind.
--
-- A DaskJob that ran to its end is Healthy (Successful) or Degraded (Failed), whatever else.
-- A resource suspended by spec.suspend (its Suspended condition) is Suspended.
-- Uses only Lua's base library.
local hs = {}
if obj.kind == "DaskJob" and obj.status ~= nil then
  if obj.status.jobStatus == "Successful" then
    hs.status = "Healthy"
    hs.message = "The job's runner Pod succeeded"
    return hs
  end
  if obj.status.jobStatus == "Failed" then
    hs.status = "Degraded"
    hs.message = "The job's runner Pod failed"
    return hs
  end
end
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = obj.kind .. " is being deleted"
  return hs
end
local status = obj.status
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the " .. obj.kind
  return hs
end
if status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end
local conditions = {}
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type ~= nil then
      conditions[condition.type] = condition
    end
  end
end
-- spec.suspend: a resource whose Suspended condition is True, and that is not
-- reconciling, has finished suspending (no Pod runs): Argo CD's own Suspended status.
-- While its Pods are still being deleted (Suspended=False, reason Suspending) it is
-- Progressing.  kstatus ignores Suspended: it reads such a resource Current.
local suspended = conditions["Suspended"]
local reconciling = conditions["Reconciling"]
if suspended ~= nil and suspended.status == "True" and (reconciling == nil or reconciling.status ~= "True") then
  hs.status = "Suspended"
  hs.message = suspended.message
  if hs.message == nil or hs.message == "" then
    hs.message = obj.kind .. " is suspended (spec.suspend)"
  end
  return hs
end
if suspended ~= nil and suspended.status == "False" and suspended.reason == "Suspending" then
  hs.status = "Progressing"
  hs.message = suspended.message
  return hs
end
-- kstatus's order: the first of Reconciling, Stalled and Ready that is True decides.
local decisive = {{"Reconciling", "Progressing"}, {"Stalled", "Degraded"}, {"Ready", "Healthy"}}
for _, rule in ipairs(decisive) do
  local condition = conditions[rule[1]]
  if condition ~= nil and condition.status == "True" then
    hs.status = rule[2]
    hs.message = condition.message
    return hs
  end
end
local ready = conditions["Ready"]
hs.status = "Progressing"
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  hs.message = ready.message
else
  hs.message = "Waiting for the " .. obj.kind .. " to be Ready"
end
return hs
