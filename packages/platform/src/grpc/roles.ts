/**
 * Who may call what: the one table of every gRPC method kzr serves and the least role that may
 * call it. Roles are cumulative, `read` < `infer` < `train` < `admin`: a caller with `train` may
 * also call every `infer` and `read` method. A test checks the table against the `.proto`
 * descriptors of every service (kzr.v1, OIP v2, health, reflection), so a method added without
 * a role fails it; at run time a method missing from the table needs `admin`.
 */

/** The roles, least first. */
export const Role = {
  /** Health, metadata, reflection, reading runs and model sets. */
  Read: 'read',
  /** Classify crops, recognise pages, the page path's steps, scoring. */
  Infer: 'infer',
  /** Start and cancel runs (retraining). */
  Train: 'train',
  /** Publish, promote and roll back model sets; fit filters. */
  Admin: 'admin',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** The roles in order of their power. */
export const roleOrder: readonly Role[] = [Role.Read, Role.Infer, Role.Train, Role.Admin];

/** Whether `held` includes `needed` (roles are cumulative). */
export function roleIncludes(held: Role, needed: Role): boolean {
  return roleOrder.indexOf(held) >= roleOrder.indexOf(needed);
}

/** Every served method by its gRPC path (`/package.Service/Method`) and the least role that may call it. */
export const methodRoles: Readonly<Record<string, Role>> = Object.freeze({
  // grpc.health.v1: probes and load balancers.
  '/grpc.health.v1.Health/Check': Role.Read,
  '/grpc.health.v1.Health/Watch': Role.Read,
  '/grpc.health.v1.Health/List': Role.Read,
  // Server reflection, both versions @grpc/reflection serves.
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': Role.Read,
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': Role.Read,
  // Open Inference Protocol v2.
  '/inference.GRPCInferenceService/ServerLive': Role.Read,
  '/inference.GRPCInferenceService/ServerReady': Role.Read,
  '/inference.GRPCInferenceService/ModelReady': Role.Read,
  '/inference.GRPCInferenceService/ServerMetadata': Role.Read,
  '/inference.GRPCInferenceService/ModelMetadata': Role.Read,
  '/inference.GRPCInferenceService/ModelInfer': Role.Infer,
  // kzr.v1.
  '/kzr.v1.Inference/ClassifyCrops': Role.Infer,
  '/kzr.v1.Inference/RecognizePage': Role.Infer,
  '/kzr.v1.Inference/RecognizePages': Role.Infer,
  '/kzr.v1.Preprocess/PreprocessPage': Role.Infer,
  '/kzr.v1.Preprocess/CropCharacters': Role.Infer,
  '/kzr.v1.Postprocess/MergeDetections': Role.Infer,
  '/kzr.v1.Postprocess/FilterPredictions': Role.Infer,
  '/kzr.v1.Postprocess/FinalizePage': Role.Infer,
  '/kzr.v1.Postprocess/Score': Role.Infer,
  // Fitting writes a filter version to the Store, which inference then serves.
  '/kzr.v1.Postprocess/FitFilter': Role.Admin,
  '/kzr.v1.Trainer/GetRun': Role.Read,
  '/kzr.v1.Trainer/WatchRun': Role.Read,
  '/kzr.v1.Trainer/ListRuns': Role.Read,
  '/kzr.v1.Trainer/ListModelSets': Role.Read,
  '/kzr.v1.Trainer/StartRun': Role.Train,
  '/kzr.v1.Trainer/CancelRun': Role.Train,
  '/kzr.v1.Trainer/PromoteVersion': Role.Admin,
  '/kzr.v1.Trainer/RollbackVersion': Role.Admin,
});

/** The least role that may call `path`; `admin` for a method the table does not name. */
export function requiredRole(path: string): Role {
  return methodRoles[path] ?? Role.Admin;
}
