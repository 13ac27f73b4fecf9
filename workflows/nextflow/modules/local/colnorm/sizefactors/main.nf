// The size-factor table of a final model.
process COLNORM_SIZEFACTORS {
    tag "${meta.id}"
    label 'process_single'

    input:
    tuple val(meta), path(model)

    output:
    tuple val(meta), path("size_factors.tsv"), emit: tsv
    path "versions.yml"                       , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    """
    colnorm size-factors --model ${model} -o size_factors.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        colnorm: \$(colnorm --version 2>/dev/null || echo dev)
    END_VERSIONS
    """

    stub:
    """
    touch size_factors.tsv versions.yml
    """
}
