#!/usr/bin/env nextflow
// colnorm normalize over shards of samples: each statistics pass scattered
// over the shards and gathered by merge, then each shard's part written.
//
//   nextflow run workflows/nextflow/main.nf -profile slurm \
//       --input counts.parquet --method tmm --shards 8 --outdir normalized [--log]
nextflow.enable.dsl = 2

params.input  = null
params.method = 'ratio'
params.shards = 8
params.outdir = 'normalized'
params.log    = false

include { COLNORM_PASS as COLNORM_PASS1   } from './modules/local/colnorm/pass/main'
include { COLNORM_PASS as COLNORM_PASS2   } from './modules/local/colnorm/pass/main'
include { COLNORM_PASS as COLNORM_PASS3   } from './modules/local/colnorm/pass/main'
include { COLNORM_MERGE as COLNORM_MERGE1 } from './modules/local/colnorm/merge/main'
include { COLNORM_MERGE as COLNORM_MERGE2 } from './modules/local/colnorm/merge/main'
include { COLNORM_MERGE as COLNORM_MERGE3 } from './modules/local/colnorm/merge/main'
include { COLNORM_WRITE                   } from './modules/local/colnorm/write/main'
include { COLNORM_SIZEFACTORS             } from './modules/local/colnorm/sizefactors/main'

// The statistics passes of each method (colnorm's shard package lists them).
def passesOf(String method) {
    if (!(method in ['ratio', 'poscounts', 'tmm', 'tmmwsp', 'rle', 'upperquartile', 'cpm'])) {
        error "method ${method} does not shard"
    }
    return method == 'tmm' ? 3 : (method == 'cpm' ? 1 : 2)
}

workflow COLNORM_SHARDED {
    take:
    ch_counts // channel: [ val(meta), path(counts) ], meta = [ id, method, shards ]; one matrix
    passes    // val: passesOf(meta.method)
    shards    // val: meta.shards

    main:
    ch_versions = Channel.empty()
    ch_shards   = Channel.of(1..shards)
    ch_work     = ch_counts.combine(ch_shards)            // [ meta, counts, shard ]

    // pass 1 over every shard, gathered by merge into model 1
    COLNORM_PASS1 ( ch_work.map { meta, counts, i -> [ meta, counts, i, 1, [] ] } )
    COLNORM_MERGE1 ( COLNORM_PASS1.out.state.groupTuple(size: shards).map { meta, states -> [ meta, states, 1, [] ] } )
    ch_model    = COLNORM_MERGE1.out.model                // [ meta, model ]
    ch_versions = ch_versions.mix(COLNORM_PASS1.out.versions.first(), COLNORM_MERGE1.out.versions)

    if (passes >= 2) {
        COLNORM_PASS2 ( ch_work.combine(ch_model.map { meta, m -> m }).map { meta, counts, i, m -> [ meta, counts, i, 2, m ] } )
        COLNORM_MERGE2 ( COLNORM_PASS2.out.state.groupTuple(size: shards)
            .combine(ch_model.map { meta, m -> m }).map { meta, states, m -> [ meta, states, 2, m ] } )
        ch_model = COLNORM_MERGE2.out.model
    }
    if (passes >= 3) {
        COLNORM_PASS3 ( ch_work.combine(ch_model.map { meta, m -> m }).map { meta, counts, i, m -> [ meta, counts, i, 3, m ] } )
        COLNORM_MERGE3 ( COLNORM_PASS3.out.state.groupTuple(size: shards)
            .combine(ch_model.map { meta, m -> m }).map { meta, states, m -> [ meta, states, 3, m ] } )
        ch_model = COLNORM_MERGE3.out.model
    }

    // each shard's part with the final model, and the size-factor table
    COLNORM_WRITE ( ch_work.combine(ch_model.map { meta, m -> m }) )
    COLNORM_SIZEFACTORS ( ch_model )
    ch_versions = ch_versions.mix(COLNORM_WRITE.out.versions.first(), COLNORM_SIZEFACTORS.out.versions)

    emit:
    parts        = COLNORM_WRITE.out.part.groupTuple(size: shards) // [ meta, [ part-*.parquet ] ]
    size_factors = COLNORM_SIZEFACTORS.out.tsv                      // [ meta, size_factors.tsv ]
    versions     = ch_versions
}

workflow {
    if (!params.input) { error "give --input (a count matrix file, or a folder of Parquet files)" }
    def shards = params.shards as int
    def meta   = [ id: file(params.input).name, method: params.method, shards: shards ]
    COLNORM_SHARDED ( Channel.of([ meta, file(params.input, checkIfExists: true) ]), passesOf(params.method), shards )
}
