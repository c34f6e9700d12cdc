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
local ready = nil
local reconciling = nil
local stalled = nil
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Reconciling" then
      reconciling = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = reconciling.message
  return hs
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  hs.message = ready.message
else
  hs.message = "Waiting for the " .. obj.kind .. " to be Ready"
end
return hs
