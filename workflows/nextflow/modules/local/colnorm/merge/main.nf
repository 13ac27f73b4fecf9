// Merge the states of one pass (one per shard, taken in shard order) into the next model.
process COLNORM_MERGE {
    tag "${meta.id}:pass${pass}"
    label 'process_single'

    input:
    tuple val(meta), path(states, stageAs: 'states/*'), val(pass), path(model)

    output:
    tuple val(meta), path("model${pass}.json"), emit: model
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def model_arg = model ? "--model ${model}" : ''
    """
    colnorm merge --quiet ${model_arg} -o model${pass}.json states/*

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        colnorm: \$(colnorm --version 2>/dev/null || echo dev)
    END_VERSIONS
    """

    stub:
    """
    touch model${pass}.json versions.yml
    """
}
