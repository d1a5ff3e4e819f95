/**
 * The `kzr.v1.Inference` gRPC service: ClassifyCrops, RecognizePage (the facade of the page
 * path, calling the preprocess and postprocess services) and the streaming RecognizePages. Every response names the model set and version that served it. Limits:
 * crops per request, page pixels, detections per page; the message size is the server's
 * (`KZR_GRPC_MAX_MESSAGE_BYTES`) and the client's deadline aborts the call between steps.
 */
import {
  type ClassifyCropsRequest,
  type ClassifyCropsResponse,
  InferenceService,
  type RecognizePageRequest,
  type RecognizePageResponse,
  Voting,
} from '@kzr/api/kzr/v1/inference';
import { MediaType } from '@kzr/api/kzr/v1/common';
import type { PagePredictions } from '@kzr/api/kzr/v1/postprocess';
import { charOfCode, isUnicodeCode, requirePageId } from '@kzr/core';
import { type CallContext, type GrpcServiceRegistration, implement, ValidationError } from '@kzr/platform';
import { checkSegment, PagePreprocessing, type VotingMode } from '@kzr/artifacts';

import { classifyCrops, type LabelScore } from './ensemble/classify.js';
import {
  checkDetectionSets,
  classifyDetectionSets,
  type ClassifiedSet,
  type DetectionSetInput,
} from './recognize/classify-sets.js';
import { checkSignal, measured, Serving, type ServingOptions } from './serving.js';

/** Fully qualified service name, as health and reflection report it. */
export const inferenceServiceName = 'kzr.v1.Inference';

/** Largest crop accepted by ClassifyCrops, in pixels. */
const maxCropPixels = 4_000_000;

function votingOf(v: number, field: string): VotingMode | undefined {
  switch (v) {
    case Voting.VOTING_UNSPECIFIED:
      return undefined;
    case Voting.VOTING_HARD:
      return 'hard';
    case Voting.VOTING_SOFT:
      return 'soft';
    default:
      throw new ValidationError(field, `unknown voting ${v}`);
  }
}

function labels(top: readonly LabelScore[]): Array<{ code: string; character: string; probability: number }> {
  return top.map((t) => ({
    code: t.code,
    character: isUnicodeCode(t.code) ? charOfCode(t.code) : '',
    probability: t.probability,
  }));
}

/** The `set@version` label of a kzr.v1 response, for the request metrics. */
function servedByOf(out: { servedBy?: { modelSet: string; version: string } | undefined }): string | undefined {
  return out.servedBy ? `${out.servedBy.modelSet}@${out.servedBy.version}` : undefined;
}

/** ClassifyCrops. */
export async function handleClassifyCrops(
  serving: Serving,
  request: ClassifyCropsRequest,
  signal?: AbortSignal,
): Promise<ClassifyCropsResponse> {
  const n = request.crops.length;
  if (n === 0) throw new ValidationError('crops', 'at least one crop is needed');
  if (n > serving.limits.maxCropsPerRequest) {
    throw new ValidationError(
      'crops',
      `${n} crops exceed the limit of ${serving.limits.maxCropsPerRequest} per request`,
    );
  }
  const voting = votingOf(request.voting, 'voting');
  using lease = serving.lease(request.model?.modelSet, request.model?.version);
  if (request.topK > lease.set.codes.length) {
    throw new ValidationError('top_k', `${request.topK} exceeds the ${lease.set.codes.length} classes`);
  }
  const crops = await Promise.all(
    request.crops.map((c, i) => serving.decode(c.data, c.mediaType, `crops[${i}]`, maxCropPixels)),
  );
  checkSignal(signal);
  const predictions = await classifyCrops(lease.set, crops, {
    topK: request.topK || 5,
    tta: request.tta ?? true,
    ...(voting ? { voting } : {}),
  });
  checkSignal(signal);
  return {
    servedBy: { modelSet: lease.set.modelSet, version: lease.set.version },
    results: predictions.map((p) => ({ top: labels(p.top) })),
  };
}

function detectionSets(request: RecognizePageRequest, maxDetections: number): DetectionSetInput[] {
  let total = 0;
  return request.detectionSets.map((s, si) => {
    total += s.detections.length;
    if (total > maxDetections) {
      throw new ValidationError('detection_sets', `more than ${maxDetections} detections on one page`);
    }
    if (s.pageId && request.pageId && s.pageId !== request.pageId) {
      throw new ValidationError(
        `detection_sets[${si}].page_id`,
        `${s.pageId} is not the request's page ${request.pageId}`,
      );
    }
    return {
      name: s.name || `set-${si}`,
      detections: s.detections.map((d, i) => {
        if (!d.box) throw new ValidationError(`detection_sets[${si}].detections[${i}].box`, 'missing');
        return { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score };
      }),
    };
  });
}

/** The wire form of one classified set, as FinalizePage takes it. */
function setPredictions(set: ClassifiedSet, pageId: string, width: number, height: number): PagePredictions {
  return {
    pageId,
    pageWidth: width,
    pageHeight: height,
    detectionSet: set.name,
    characters: set.detections.map(({ detection: d, top }) => {
      const [label] = labels(top);
      return {
        code: label!.code,
        character: label!.character,
        box: { x: d.x, y: d.y, width: d.width, height: d.height },
        centerX: d.x + d.width / 2,
        centerY: d.y + d.height / 2,
        probability: label!.probability,
        detectorScore: d.score,
        detectionSet: set.name,
        column: 0,
        order: 0,
        lowConfidence: false,
        top: labels(top),
      };
    }),
  };
}

/**
 * RecognizePage, the facade of the page path: the page is preprocessed by the preprocess
 * service as the model set's manifest says (unless the client sent it so), the crops of each
 * detection set are classified here, and the postprocess service merges, filters and orders
 * them. The response names the model-set version and the filter version.
 */
export async function handleRecognizePage(
  serving: Serving,
  request: RecognizePageRequest,
  ctx?: Pick<CallContext, 'signal' | 'call'>,
): Promise<RecognizePageResponse> {
  const signal = ctx?.signal;
  const voting = votingOf(request.voting, 'voting');
  // 0 (unset) takes the default; NaN is not unset (`||` would have taken the default for it too).
  const threshold =
    request.lowConfidenceThreshold === 0 ? serving.limits.lowConfidenceThreshold : request.lowConfidenceThreshold;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new ValidationError('low_confidence_threshold', `expected a value in [0, 1], got ${threshold}`);
  }
  requirePageId('page_id', request.pageId);
  // Postprocess checks it too; checked here so a bad name costs no classification.
  if (request.filterVersion !== '') checkSegment('filter_version', request.filterVersion);
  const sets = detectionSets(request, serving.limits.maxDetectionsPerPage);
  const source = request.image?.source;
  if (!source) throw new ValidationError('image', 'an encoded image or a store key is needed');
  using lease = serving.lease(request.model?.modelSet, request.model?.version);
  let bytes: Uint8Array;
  let mediaType: MediaType = MediaType.MEDIA_TYPE_UNSPECIFIED;
  if (source.$case === 'encoded') {
    bytes = source.value.data;
    mediaType = source.value.mediaType;
  } else {
    if (!source.value || source.value.startsWith('/') || source.value.split('/').includes('..')) {
      throw new ValidationError('image.store_key', `bad key ${JSON.stringify(source.value)}`);
    }
    bytes = await serving.registry.store.getBytes(source.value);
  }
  let page = await serving.decode(bytes, mediaType, 'image', serving.limits.maxPagePixels);
  // Boxes are checked against the page before any other service is asked.
  checkDetectionSets(sets, page.width, page.height);
  if (lease.set.manifest.pagePreprocessing === PagePreprocessing.BenDenoise && !request.preprocessed) {
    const preprocessed = await serving.pagePath.preprocessPage(
      {
        image: { source: { $case: 'encoded', value: { data: bytes, mediaType } } },
        skipBen: false,
        skipDenoise: false,
      },
      ctx?.call,
    );
    page = await serving.decode(preprocessed.png, MediaType.MEDIA_TYPE_PNG, 'image', serving.limits.maxPagePixels);
  }
  checkSignal(signal);
  const classified = await classifyDetectionSets(lease.set, page, sets, {
    ...(voting ? { voting } : {}),
    ...(request.tta !== undefined ? { tta: request.tta } : {}),
    ...(signal ? { signal } : {}),
  });
  checkSignal(signal);
  const finished = await serving.pagePath.finalizePage(
    {
      pageId: request.pageId,
      pageWidth: page.width,
      pageHeight: page.height,
      sets: classified.map((set) => setPredictions(set, request.pageId, page.width, page.height)),
      filterVersion: request.filterVersion,
      threshold: 0,
      unfiltered: request.unfiltered,
      lowConfidenceThreshold: threshold,
    },
    ctx?.call,
  );
  return {
    servedBy: { modelSet: lease.set.modelSet, version: lease.set.version },
    pageId: finished.pageId,
    characters: finished.characters,
    text: finished.text,
    kaggleLabels: finished.kaggleLabels,
    pageWidth: finished.pageWidth,
    pageHeight: finished.pageHeight,
    filterVersion: finished.filterVersion,
  };
}

/** Builds the service registration for a gRPC server. */
export function createInferenceService(options: ServingOptions | Serving): GrpcServiceRegistration {
  const serving = options instanceof Serving ? options : new Serving(options);
  return {
    name: inferenceServiceName,
    definition: InferenceService,
    implementation: implement(
      InferenceService,
      {
        classifyCrops: async (request, ctx: CallContext) =>
          measured(serving, 'ClassifyCrops', () => handleClassifyCrops(serving, request, ctx.signal), servedByOf),
        recognizePage: async (request, ctx: CallContext) =>
          measured(serving, 'RecognizePage', () => handleRecognizePage(serving, request, ctx), servedByOf),
        async *recognizePages(requests, ctx: CallContext) {
          for await (const request of requests) {
            yield await measured(
              serving,
              'RecognizePages',
              () => handleRecognizePage(serving, request, ctx),
              servedByOf,
            );
          }
        },
      },
      serving.logger,
    ),
  };
}
